\set c random(1, 5000)
\set d random(1, 90)
SELECT o.id, o.status, o.total FROM shop.orders o WHERE o.customer_id = :c ORDER BY o.ordered_at DESC LIMIT 10;
SELECT count(*), sum(total) FROM shop.orders WHERE ordered_at > now() - make_interval(days => :d);
SELECT c.country, count(*) AS orders, sum(o.total) AS revenue FROM shop.orders o JOIN shop.customers c ON c.id = o.customer_id WHERE o.ordered_at > now() - interval '1 hour' GROUP BY c.country ORDER BY revenue DESC;
SELECT i.sku, sum(i.qty) FROM shop.order_items i JOIN shop.orders o ON o.id = i.order_id WHERE o.customer_id = :c GROUP BY i.sku ORDER BY 2 DESC LIMIT 5;
SELECT * FROM shop.customers WHERE id = :c;
SELECT count(*) FROM shop.customers WHERE id NOT IN (SELECT customer_id FROM shop.orders WHERE status = 'new');
