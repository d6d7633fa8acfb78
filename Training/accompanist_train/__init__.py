"""Accompanist training side: tokenizer, POP909 data, streaming model, training, export."""
