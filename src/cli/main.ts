#!/usr/bin/env node
/** `ser`: the command line. Parsing only; every command calls the public API. */
console.log('ser: speech-emotion command line (commands arrive with the front end and the engine)');
