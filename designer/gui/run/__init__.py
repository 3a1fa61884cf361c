"""Run and see: the run controller (worker thread), feature maps, input with RF/ERF, profile, coverage."""
