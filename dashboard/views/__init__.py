"""The dashboard's pages: overview, pair browser (and one pair), training."""
