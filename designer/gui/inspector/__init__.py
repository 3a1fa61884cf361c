"""The inspector dock: the selected layer's hyperparameters, computed values, issues and quick fixes."""
