"""Section clips: a render cut at its arrangement's sections (plan) and reviewed before saving (review)."""
