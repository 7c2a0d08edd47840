"""The local cloud: AWS APIs (moto) for three accounts, plus what moto lacks.

It runs SageMaker pipeline definitions (the executor), delivers events to the deployed
rules and targets (the router), and answers GitLab's pipeline trigger (the stand-in).
"""
