-- The naive loader: one INSERT per row, one transaction per INSERT (what
-- row-by-row ETL jobs do), then the order lines in bulk.
SELECT format('INSERT INTO shop.customers VALUES (%s, %L, %L, now() - interval ''1 day'' * %s)',
              g, 'customer ' || g, (ARRAY['DE','FR','US','JP','BR'])[1 + g % 5], g % 365)
  FROM generate_series(1, 5000) g \gexec
SELECT format('INSERT INTO shop.orders VALUES (%s, %s, %L, now() - interval ''1 minute'' * %s, %s)',
              g, 1 + (g * 7919) % 5000, (ARRAY['new','paid','shipped'])[1 + g % 3], g, (g % 500) + 0.99)
  FROM generate_series(1, 40000) g \gexec
INSERT INTO shop.order_items
SELECT o.id, l, 'SKU-' || (o.id * l) % 97, 1 + l % 3, 9.99 FROM shop.orders o, generate_series(1, 3) l;
ANALYZE;
