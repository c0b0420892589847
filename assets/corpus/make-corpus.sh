#!/usr/bin/env bash
# Rebuilds the embedded demo corpus in this folder from ../shared/data (how the committed files were made).
#
#   assets/corpus/ravdess/Actor_NN/*.opus   RAVDESS speech, actors 01-06 (3 male, 3 female), all 60 clips each
#                                            = 360 clips, 8 emotions; each cut to its 3 s speech window
#   assets/corpus/manifest.csv              path,label,speaker,sex,sentence,intensity for the RAVDESS clips
#   assets/corpus/crema-d/*.opus            the 12 CREMA-D sample clips (actors 1001, 1002; sentence DFA), whole
#   assets/corpus/crema-d/VideoDemographics.csv  CREMA-D actor demographics (sex, age)
#
# Speech window: sox `silence 1 0.05 1%` finds the onset (first 50 ms above 1% of full scale); the clip is cut
# from 0.15 s before the onset, 3 s long. RAVDESS files start with ~1 s of
# silence, so a plain "first 3 s" crop would cut the end of many sentences. When less than 3 s follow that
# point, the window is moved back so it ends with the file (every clip is then exactly 3 s when the file is).
# Encoding: Opus 32 kbit/s (opusenc, libopus), about 13 KB per 3 s clip; a 16-bit FLAC of the same clip is
# ~60 KB (the recordings' noise floor does not compress). Opus decodes at 48 kHz; loadAudio resamples to 16 kHz.
# Measured on one clip: mean |log-mel difference| to the WAV = 1.3 dB over bins above -60 dB.
#
# Usage: assets/corpus/make-corpus.sh [SHARED_DATA_DIR]   (default: ../shared/data from the repository root)
# Needs: sox, opusenc (opus-tools).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="${1:-$here/../../../shared/data}"
actors=(01 02 03 04 05 06)
labels=(neutral calm happy sad angry fearful disgust surprised)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

rm -rf "$here/ravdess" "$here/crema-d"
echo "path,label,speaker,sex,sentence,intensity" >"$here/manifest.csv"
for actor in "${actors[@]}"; do
  mkdir -p "$here/ravdess/Actor_$actor"
  for wav in "$data/ravdess/Actor_$actor"/03-01-*.wav; do
    name="$(basename "$wav" .wav)"
    IFS=- read -r _modality _channel emotion intensity statement _repetition _actor <<<"$name"
    # Onset = total duration - duration after the leading silence is removed.
    sox -V1 "$wav" "$tmp/trimmed.wav" silence 1 0.05 1%
    duration="$(soxi -D "$wav")"
    onset="$(echo "$duration - $(soxi -D "$tmp/trimmed.wav")" | bc -l)"
    start="$(echo "s = $onset - 0.15; if (s > $duration - 3) s = $duration - 3; if (s < 0) s = 0; s" | bc -l)"
    sox -V1 "$wav" "$tmp/clip.wav" trim "$start" 3
    opusenc --quiet --bitrate 32 "$tmp/clip.wav" "$here/ravdess/Actor_$actor/$name.opus"
    label="${labels[$((10#$emotion - 1))]}"
    sex=$([ $((10#$actor % 2)) -eq 1 ] && echo male || echo female)
    level=$([ "$intensity" = 01 ] && echo normal || echo strong)
    echo "ravdess/Actor_$actor/$name.opus,$label,$actor,$sex,$statement,$level" >>"$here/manifest.csv"
  done
done

mkdir -p "$here/crema-d"
for wav in "$data/crema-d/sample"/*.wav; do
  opusenc --quiet --bitrate 32 "$wav" "$here/crema-d/$(basename "$wav" .wav).opus" 2>/dev/null  # quiet about LIST chunks
done
cp "$data/crema-d/VideoDemographics.csv" "$here/crema-d/VideoDemographics.csv"
du -sh "$here"
