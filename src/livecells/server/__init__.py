"""The livecells jupyter_server pieces (the ``livecells serve`` application grows here)."""
