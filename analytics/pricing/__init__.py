"""Pricing recommendations for a store (issue 27): own-price elasticities from the store's own price
changes and quantity-dependent prices (pooled across the category when one product has too few),
suggestions inside the owner's guard rails with their expected effect and a fact-checked reason,
the owner's decisions, the signed price push to the tills, the after-the-fact comparison and a
backtest of the predicted effects.

| module | job |
|---|---|
| ``rails.py`` | the owner's guard rails per store and the price endings |
| ``elasticity.py`` | log-log regression per product, with shrinkage to the category / the store |
| ``position.py`` | per product: price, cost, margin, demand trend, stock position |
| ``effects.py`` | expected change in units, revenue and profit of a new price, with a range |
| ``baskets.py`` | multi-buy and bundle suggestions from what is bought together |
| ``reasons.py`` | the plain-language reason as phrases, worded in the reader's language and fact-checked |
| ``suggest.py`` | everything above for one store: ``pricing_report`` |
| ``tables.py``, ``changes.py`` | decisions (approve, edit, reject) and what a change did vs predicted |
| ``push.py`` | approved changes and offers -> ``tillsight.prices/2`` -> a signed ``prices`` fleet update; rollback |
| ``stored.py`` | the report computed at night and stored; what the Pricing page reads |
| ``words.py`` | the report's values (kinds, trends, statuses) in the reader's language |
| ``backtest.py`` | predict past price changes from the data before them; the error |
"""
