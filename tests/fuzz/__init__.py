"""Property-based fuzzing of every parser of untrusted input: only typed errors come out."""
