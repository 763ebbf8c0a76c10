-- A small shop: what the demo's loader and dashboards work on.
CREATE SCHEMA shop;
CREATE TABLE shop.customers (
  id bigint PRIMARY KEY,
  name text NOT NULL,
  country text NOT NULL,
  created_at timestamptz NOT NULL
);
-- the same index twice, and neither is ever used: drop advice
CREATE INDEX customers_country_idx ON shop.customers (country);
CREATE INDEX customers_country_idx1 ON shop.customers (country);
CREATE TABLE shop.orders (
  id bigint PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES shop.customers,
  status text NOT NULL,
  ordered_at timestamptz NOT NULL,
  total numeric(12,2) NOT NULL
);
CREATE TABLE shop.order_items (
  order_id bigint NOT NULL REFERENCES shop.orders,
  line int NOT NULL,
  sku text NOT NULL,
  qty int NOT NULL,
  price numeric(10,2) NOT NULL,
  PRIMARY KEY (order_id, line)
);
