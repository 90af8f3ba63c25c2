"""Wire formats, each in one module with pure encode/decode functions."""
