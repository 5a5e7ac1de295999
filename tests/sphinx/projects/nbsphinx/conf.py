# An nbsphinx site on furo, made live by one line.
project = "nbsphinx site"
extensions = ["nbsphinx", "livecells.sphinx"]
html_theme = "furo"
nbsphinx_execute = "never"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
