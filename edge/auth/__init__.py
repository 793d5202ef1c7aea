"""Staff authentication: memory-hard hashes of PINs and passwords, lock-out, supervisor approval."""
