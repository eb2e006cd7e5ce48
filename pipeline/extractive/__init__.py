"""Extractive analysis of a talk, used by the offline provider: sentences and their qualities,
corpus statistics, the outline, themes and quotes, and the material drafts are composed from."""
