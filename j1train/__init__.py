"""j1train: train LLM judges the way J1 does (GRPO on verifiable pairwise verdicts), and build their training pairs."""
