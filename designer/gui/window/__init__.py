"""The main window, its action registry, workspaces, prompts and help pages."""
