"""Train: pairing uploads with sets, the work queue and its drafts, saving items, changing saved items."""
