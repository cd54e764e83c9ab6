"""Captions: the writers, generating and fact-checking captions, reading what a caption says, the captions report."""
