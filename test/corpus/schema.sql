-- Tables and indexes for the corpus statements that the catalog rules
-- analyze (statements on other tables get only the tree rules).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE customers (id bigint PRIMARY KEY, email text, name text, country text,
                        code char(8), created_at timestamptz, customer_id bigint);
CREATE INDEX ON customers (email);
CREATE INDEX ON customers (created_at);
CREATE INDEX ON customers (code);
CREATE INDEX ON customers ((lower(name)));
CREATE INDEX ON customers USING gin (name gin_trgm_ops);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, status text, total numeric,
                     ordered_at timestamptz, deleted_at timestamptz);
CREATE INDEX ON orders (customer_id);
CREATE INDEX ON orders (ordered_at);
CREATE INDEX orders_open_status ON orders (status) WHERE deleted_at IS NULL;
CREATE TABLE products (id bigint PRIMARY KEY, sku text UNIQUE, name text, code text,
                       active boolean, discontinued boolean, stock int, created_at timestamptz);
CREATE TABLE items (id bigint PRIMARY KEY, order_id bigint, sku text, qty int);
