"""Parts of the pair builder (``python -m j1train data``): prompt sources, templates, stored generation."""
