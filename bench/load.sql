-- load.sql -- DuckDB builds a table from the generated CSV (issue 3 item 8).
-- The column types are given, not sniffed, so that DuckDB parses what
-- clickpath parses: ts as a time-zone-aware timestamp (R1.2), money as exact
-- decimals (R1.5: DECIMAL(18,6) = micro-units, like our int64), units and
-- rating as integers, loaded as a boolean, every other column a string.
-- Empty cells become NULL (DuckDB's default), as clickpath treats them as absent.
CREATE TABLE ev AS SELECT * FROM read_csv('{{FILE}}',
    header = true, delim = ',', quote = '"', escape = '"', auto_detect = false,
    columns = {
      'ts': 'TIMESTAMPTZ', 'type': 'VARCHAR', 'visitor': 'VARCHAR',
      'customer': 'VARCHAR', 'ip': 'VARCHAR', 'ua': 'VARCHAR',
      'referrer': 'VARCHAR', 'asin': 'VARCHAR', 'campaign': 'VARCHAR',
      'ad_group': 'VARCHAR', 'keyword': 'VARCHAR', 'tag': 'VARCHAR',
      'click_id': 'VARCHAR', 'cost': 'DECIMAL(18,6)', 'order': 'VARCHAR',
      'units': 'INTEGER', 'price': 'DECIMAL(18,6)', 'amount': 'DECIMAL(18,6)',
      'loaded': 'BOOLEAN', 'rating': 'TINYINT'});
SELECT count(*) FROM ev;
