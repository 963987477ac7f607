"""``python -m webapp`` is ``motcua``."""
from webapp.cli import main

main()
