"""The legal framework: operator accounts and roles (cases, audit log and retention follow)."""
