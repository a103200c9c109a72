"""Command-line tools built on nfe_core (`nfe`), and the conventions `nfe-train` shares."""
