"""Trained-model families that claims of several sections share (their seed families: claims/families.py).
A claim imports these, never another claim's module."""
