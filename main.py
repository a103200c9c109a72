"""Start Neural Face Editor from a source checkout: ``python main.py [picture]``."""

from nfe_desktop.app import main

raise SystemExit(main())
