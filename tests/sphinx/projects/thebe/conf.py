# A site written for sphinx-thebe: only the extension's name changed (sphinx_thebe ->
# livecells.sphinx); its thebe_config is read as it is.
project = "thebe site"
extensions = ["livecells.sphinx"]
html_theme = "alabaster"
thebe_config = {
    "repository_url": "https://github.com/owner/thebe-repo",
    "repository_branch": "main",
    "selector": "div.highlight-python",
    "selector_input": "pre",
    "codemirror-theme": "abcdef",
}
