"""Operations: doctor, demo data, logs, redaction of secrets, text hygiene."""
