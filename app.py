#!/usr/bin/env python3
"""CDK entry point (`npx cdk synth`, or `python app.py` without Node)."""

from stacks.application import create_app

create_app().synth()
