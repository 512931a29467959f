"""Screeners: each reads one immutable `Message` and returns the flags it found."""
