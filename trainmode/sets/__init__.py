"""Sets: reading Ableton Live sets (als/), the one meaning of a set (facts), the artist's profile, importing."""
