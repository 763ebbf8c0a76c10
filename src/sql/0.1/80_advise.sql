/* The what-if planner: hypothetical indexes, sized and planned. */

CREATE FUNCTION @extschema@.hypothetical_index(
  definition text,
  OUT relation regclass, OUT definition text, OUT method text,
  OUT estimated_entries double precision, OUT estimated_pages bigint,
  OUT estimated_bytes bigint, OUT tree_height integer, OUT deduplicated boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'pipeopt_hypothetical_index'
LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION @extschema@.hypothetical_index(text) IS
  'The estimated size of the index a CREATE INDEX text describes, were it built now (nothing is built)';

CREATE FUNCTION @extschema@.whatif(
  statement text, indexes text[] DEFAULT '{}', hide regclass[] DEFAULT '{}',
  params text[] DEFAULT NULL,
  OUT cost_before double precision, OUT cost_after double precision,
  OUT startup_before double precision, OUT startup_after double precision,
  OUT indexes_used text[])
RETURNS record
AS 'MODULE_PATHNAME', 'pipeopt_whatif'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.whatif(text, text[], regclass[], text[]) IS
  'The planner''s cost of a statement as it is, and with hypothetical indexes (CREATE INDEX texts) added and real ones hidden; planned as the caller, generically or with the values of params for $1, $2, ..., never executed';

CREATE FUNCTION @extschema@.select_indexes(
  statements text[], budget text DEFAULT '40MB', weights double precision[] DEFAULT NULL,
  max_columns integer DEFAULT 3,
  OUT definition text, OUT relation regclass, OUT estimated_bytes bigint,
  OUT saving double precision, OUT statements_improved integer,
  OUT workload_cost_before double precision, OUT workload_cost_after double precision,
  OUT planner_calls integer)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pipeopt_select_indexes'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.select_indexes(text[], text, double precision[], integer) IS
  'The B-tree indexes that save the statements the most planner cost within budget (greedy, Extend-style), planned as the caller, nothing built';
