"""The summary table, its memory settings and the status-bar totals."""
