"""Evidence export: exhibits cut from the original footage, hashed, signed and zipped."""
