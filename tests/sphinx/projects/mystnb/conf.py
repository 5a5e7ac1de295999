# A MyST-NB site on sphinx-book-theme, made live by one line.
project = "MyST-NB book"
extensions = ["myst_nb", "livecells.sphinx"]
html_theme = "sphinx_book_theme"
nb_execution_mode = "off"
exclude_patterns = ["_build"]
