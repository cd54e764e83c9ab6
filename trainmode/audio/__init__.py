"""Audio: is an upload an MP3 (probe), its MPEG frames and seek table, listening to it (analysis/,
tagger/) and the verdict against its set (check)."""
