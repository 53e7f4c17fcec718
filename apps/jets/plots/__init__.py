"""Figures of the jets app (matplotlib / mplhep, loaded only when a figure is drawn).

* ``mjj`` — the common style, mjj histograms, optimisation traces and scans;
* ``radius`` — multi-run traces and mjj summaries with robust statistics in the legend.
"""
