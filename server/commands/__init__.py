"""One module per family of `langso` commands; each lists its click commands in COMMANDS."""
