"""Closed-loop simulation: replay a company's demand day by day under an ordering policy.

``world.build_world`` fixes what every policy shares (demand, stock and open orders at the start,
deliveries drawn from each supplier's realised behaviour); ``engine.simulate`` runs one policy day by
day; ``policies`` holds the policies compared; ``metrics`` and ``compare`` turn results into the
summary and the comparisons along the curves; ``report`` writes the files.
"""
