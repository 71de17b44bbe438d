"""Pure functions that build plotly figures, shared by the app and notebooks (no streamlit here)."""
