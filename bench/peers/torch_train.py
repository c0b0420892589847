"""PyTorch peer for RESULTS.md (measurement only, never a dependency): trains ../shared/reference/cnn_tm.py on
the same clips and the same split as a `ser train` run, with the same front end and hyper-parameters, so that
the accuracy of our engine can be compared with PyTorch's on identical data.

  /usr/bin/python3 bench/peers/torch_train.py RUN_DIR DATA_DIR [--threads 1] [--max-epochs N] [--out results.json]

RUN_DIR is a finished `ser train` run (its split.json and config.json are reused). Front end: torchaudio
MelSpectrogram + AmplitudeToDB with the run's config, first `durationS` seconds (zero-padded), as ours.
Early stopping on validation loss with the run's patience; the best model is evaluated on the test part.
"""
import argparse, json, os, sys, time
import torch, torchaudio

p = argparse.ArgumentParser()
p.add_argument('run_dir'); p.add_argument('data_dir')
p.add_argument('--threads', type=int, default=1); p.add_argument('--out')
p.add_argument('--max-epochs', type=int, default=None, help='cap the epoch budget (timing runs)')
p.add_argument('--shared', default=os.path.join(os.path.dirname(__file__), '..', '..', '..', 'shared'))
a = p.parse_args()
torch.set_num_threads(a.threads); torch.manual_seed(0)
sys.path.insert(0, os.path.join(a.shared, 'reference'))
from cnn_tm import CnnTm

cfg = json.load(open(os.path.join(a.run_dir, 'config.json')))
split = json.load(open(os.path.join(a.run_dir, 'split.json')))
fe, hp, mc = cfg['frontEnd'], cfg['hyper'], cfg['model']
labels = split['labels']
mel = torchaudio.transforms.MelSpectrogram(sample_rate=fe['sampleRateHz'], n_fft=fe['nFft'], win_length=fe['winLength'],
                                           hop_length=fe['hopLength'], n_mels=fe['nMels'], f_min=fe['fMinHz'],
                                           f_max=fe['fMaxHz'], mel_scale=fe['melScale'], norm=fe['norm'])
to_db = torchaudio.transforms.AmplitudeToDB('power', top_db=fe['topDb'])
n = int(cfg['durationS'] * fe['sampleRateHz'])


def emotion(name):  # RAVDESS 03-01-EE-...
    return labels[int(os.path.basename(name).split('-')[2]) - 1]


def features(ids):
    xs, ys = [], []
    for i in ids:
        w, sr = torchaudio.load(os.path.join(a.data_dir, i))
        w = w.mean(0)
        if sr != fe['sampleRateHz']:
            w = torchaudio.functional.resample(w, sr, fe['sampleRateHz'])
        w = torch.nn.functional.pad(w[:n], (0, max(0, n - w.shape[0])))
        xs.append(to_db(mel(w)[None])[0]); ys.append(labels.index(emotion(i)))
    return torch.stack(xs)[:, None], torch.tensor(ys)


parts = {k: features(v) for k, v in split['parts'].items()}
model = CnnTm(n_mels=mc['nMels'], n_classes=mc['nClasses'], d_model=mc['dModel'], layers=mc['layers'], heads=mc['heads'],
              ff=mc['ffDim'], dropout=mc['dropout'])
opt = torch.optim.AdamW(model.parameters(), lr=hp['lr'], betas=tuple(hp['betas']), eps=hp['eps'], weight_decay=hp['weightDecay'])


def evaluate(x, y):
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(x[i:i + 64]) for i in range(0, len(x), 64)])
    return torch.nn.functional.cross_entropy(logits, y).item(), (logits.argmax(1) == y).float().mean().item(), logits.argmax(1)


xtr, ytr = parts['train']; best, best_state, bad, history, t0 = float('inf'), None, 0, [], time.time()
g = torch.Generator().manual_seed(0)
for epoch in range(1, (a.max_epochs or hp['epochs']) + 1):
    model.train(); order = torch.randperm(len(xtr), generator=g); losses = []
    for b in range(len(xtr) // hp['batchSize']):  # drop_last, as ours
        idx = order[b * hp['batchSize']:(b + 1) * hp['batchSize']]
        loss = torch.nn.functional.cross_entropy(model(xtr[idx]), ytr[idx])
        opt.zero_grad(); loss.backward(); opt.step(); losses.append(loss.item())
    vl, va, _ = evaluate(*parts['validation'])
    history.append(dict(epoch=epoch, train_loss=sum(losses) / len(losses), val_loss=vl, val_accuracy=va, seconds=time.time() - t0))
    print(json.dumps(history[-1]), flush=True)
    if vl < best:
        best, bad, best_state = vl, 0, {k: v.clone() for k, v in model.state_dict().items()}
    else:
        bad += 1
        if bad >= hp['patience']:
            break
model.load_state_dict(best_state)
tl, ta, pred = evaluate(*parts['test'])
yt = parts['test'][1]
recalls = [((pred == c) & (yt == c)).sum().item() / max(1, (yt == c).sum().item()) for c in range(len(labels))]
result = dict(peer='pytorch ' + torch.__version__, protocol=split['protocol'], test_accuracy=ta, uar=sum(recalls) / len(recalls),
              test_loss=tl, epochs_run=len(history), best_epoch=min(history, key=lambda h: h['val_loss'])['epoch'],
              wall_seconds=time.time() - t0, threads=a.threads)
print(json.dumps(result))
if a.out:
    json.dump(dict(result, history=history), open(a.out, 'w'), indent=1)
