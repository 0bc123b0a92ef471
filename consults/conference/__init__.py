"""Case conferences through Janus's VideoRoom (docs/decisions.md 53, 54): the app creates one
room per consult and is the only issuer and revoker of the tokens that let a participant in."""
