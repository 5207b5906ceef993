"""The actions (action.py), their auth functions (auth.py), schemas and validators."""
