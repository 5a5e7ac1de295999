"""Pages through mystmd, the MyST reference implementation: :mod:`~livecells.myst.project`
runs it on a private copy of the folder and reads its AST, :mod:`~livecells.myst.html` renders
that AST to HTML."""
