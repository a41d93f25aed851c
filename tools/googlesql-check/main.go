// googlesql-check parses and analyzes BigQuery SQL with Google's own GoogleSQL front end (the
// pure-Go build, github.com/goccy/go-googlesql), offline.
//
// Input on stdin: the document `target-invoca sql --format json` prints for a BigQuery config:
//
//	{"engine": "bigquery", "tables": [{"path": ["p", "d", "t"], "columns": [{"name", "type"}]}],
//	 "setup": ["sql", ...], "batch": ["sql or script", ...]}
//
// Every statement and script of setup and batch is parsed as a script, then each statement in it
// is analyzed against a catalog of those tables. An optional "models": [{"path": [...], "sql"}]
// (compiled dbt models, in dependency order) are analyzed as queries after them, and each one's
// output columns, typed as GoogleSQL resolved them, become a table at its path for the models
// after it; an entry without a path (a hook's DELETE) is analyzed only. Output on stdout: one JSON document
// {"statements": N, "errors": [{"list", "index", "statement", "error"}]}; exit 1 when any failed.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/goccy/go-googlesql"
)

type column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type table struct {
	Path    []string `json:"path"`
	Columns []column `json:"columns"`
}

type model struct {
	Path []string `json:"path"`
	SQL  string   `json:"sql"`
}

type document struct {
	Engine string   `json:"engine"`
	Tables []table  `json:"tables"`
	Setup  []string `json:"setup"`
	Batch  []string `json:"batch"`
	Models []model  `json:"models"`
}

type failure struct {
	List      string `json:"list"`
	Index     int    `json:"index"`
	Statement string `json:"statement"`
	Error     string `json:"error"`
}

type report struct {
	Statements int       `json:"statements"`
	Errors     []failure `json:"errors"`
}

func main() {
	var input document
	if err := json.NewDecoder(os.Stdin).Decode(&input); err != nil {
		fail("stdin is not the JSON of target-invoca sql --format json: %v", err)
	}
	if input.Engine != "bigquery" {
		fail("engine %q: googlesql-check checks BigQuery SQL only", input.Engine)
	}
	if err := googlesql.Init(); err != nil {
		fail("googlesql.Init: %v", err)
	}
	checker, err := newChecker(input.Tables)
	if err != nil {
		fail("building the catalog: %v", err)
	}
	result := report{Errors: []failure{}}
	for name, list := range map[string][]string{"setup": input.Setup, "batch": input.Batch} {
		for index, sql := range list {
			count, err := checker.check(sql)
			result.Statements += count
			if err != nil {
				result.Errors = append(result.Errors, failure{List: name, Index: index, Statement: sql, Error: err.Error()})
			}
		}
	}
	for index, item := range input.Models {
		if err := checker.addModel(item); err != nil {
			result.Errors = append(result.Errors, failure{List: "models", Index: index, Statement: item.SQL, Error: err.Error()})
		}
		result.Statements++
	}
	out, _ := json.Marshal(result)
	fmt.Println(string(out))
	if len(result.Errors) > 0 {
		os.Exit(1)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "googlesql-check: "+format+"\n", args...)
	os.Exit(2)
}

type checker struct {
	catalog *googlesql.SimpleCatalog
	// The catalogs of each path prefix (project, project.dataset), to add a model's table to.
	catalogs map[string]*googlesql.SimpleCatalog
	// Every table's path, lower case: a second table of one name is an error, not a crash.
	paths    map[string]bool
	analyzer *googlesql.AnalyzerOptions
	parser   *googlesql.ParserOptions
	types    *googlesql.TypeFactory
}

func newChecker(tables []table) (*checker, error) {
	language, err := googlesql.NewLanguageOptions()
	if err != nil {
		return nil, err
	}
	// The released features in BigQuery's (external) product mode: JSON, QUALIFY, named
	// arguments, multi-statement transactions.
	if err := language.EnableMaximumLanguageFeatures(); err != nil {
		return nil, err
	}
	if err := language.SetProductMode(googlesql.ProductModeProductExternal); err != nil {
		return nil, err
	}
	if err := language.SetSupportsAllStatementKinds(); err != nil {
		return nil, err
	}
	types, err := googlesql.NewTypeFactory()
	if err != nil {
		return nil, err
	}
	catalog, err := googlesql.NewSimpleCatalog("bigquery", nil)
	if err != nil {
		return nil, err
	}
	if err := catalog.AddBuiltinFunctionsAndTypes(&googlesql.BuiltinFunctionOptions{LanguageOptions: language}); err != nil {
		return nil, err
	}
	catalogs := map[string]*googlesql.SimpleCatalog{}
	if err := addTables(catalog, types, tables, catalogs); err != nil {
		return nil, err
	}
	analyzer, err := googlesql.NewAnalyzerOptions2()
	if err != nil {
		return nil, err
	}
	if err := analyzer.SetLanguage(language); err != nil {
		return nil, err
	}
	parser, err := googlesql.NewParserOptions()
	if err != nil {
		return nil, err
	}
	if err := parser.SetLanguageOptions(language); err != nil {
		return nil, err
	}
	paths := map[string]bool{}
	for _, item := range tables {
		paths[strings.ToLower(strings.Join(item.Path, "."))] = true
	}
	return &checker{catalog: catalog, catalogs: catalogs, paths: paths, analyzer: analyzer, parser: parser, types: types}, nil
}

// addTables registers each table under nested catalogs for its path (project, dataset, table),
// and keeps each nested catalog by its path prefix in catalogs.
func addTables(root *googlesql.SimpleCatalog, types *googlesql.TypeFactory, tables []table, catalogs map[string]*googlesql.SimpleCatalog) error {
	type node struct {
		children map[string]*node
		order    []string
		table    *table
	}
	tree := &node{children: map[string]*node{}}
	for i := range tables {
		at := tree
		for _, part := range tables[i].Path {
			next, ok := at.children[part]
			if !ok {
				next = &node{children: map[string]*node{}}
				at.children[part] = next
				at.order = append(at.order, part)
			}
			at = next
		}
		at.table = &tables[i]
	}
	var fill func(catalog *googlesql.SimpleCatalog, at *node, prefix string) error
	fill = func(catalog *googlesql.SimpleCatalog, at *node, prefix string) error {
		for _, name := range at.order {
			child := at.children[name]
			if child.table != nil {
				built, err := newTable(name, child.table.Columns, types)
				if err != nil {
					return fmt.Errorf("table %s: %w", strings.Join(child.table.Path, "."), err)
				}
				if err := catalog.AddOwnedTable(built); err != nil {
					return err
				}
				continue
			}
			sub, err := googlesql.NewSimpleCatalog(name, nil)
			if err != nil {
				return err
			}
			catalogs[prefix+name] = sub
			if err := fill(sub, child, prefix+name+"."); err != nil {
				return err
			}
			// Not owned: the Go handle stays valid (catalogs), so a model's table can be added later.
			if err := catalog.AddCatalog(sub); err != nil {
				return err
			}
		}
		return nil
	}
	return fill(root, tree, "")
}

// addModel analyzes a model's compiled SQL as a query and registers its output columns, with
// the types GoogleSQL resolved, as a table at the model's path.
func (c *checker) addModel(item model) error {
	if len(item.Path) == 0 {
		_, err := c.check(item.SQL)
		return err
	}
	if len(item.Path) < 2 {
		return fmt.Errorf("model path %v: needs a dataset and a name", item.Path)
	}
	parent, ok := c.catalogs[strings.Join(item.Path[:len(item.Path)-1], ".")]
	if !ok {
		return fmt.Errorf("model path %v: no table is in its dataset", item.Path)
	}
	key := strings.ToLower(strings.Join(item.Path, "."))
	if c.paths[key] {
		return fmt.Errorf("model path %v: a table of that name exists already", item.Path)
	}
	output, err := googlesql.AnalyzeStatement(item.SQL, c.analyzer, c.catalog, c.types)
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	statement, err := output.ResolvedStatement()
	if err != nil {
		return fmt.Errorf("resolved statement: %w", err)
	}
	query, ok := statement.(*googlesql.ResolvedQueryStmt)
	if !ok {
		return fmt.Errorf("a model must be a query")
	}
	columns, err := query.OutputColumnList()
	if err != nil {
		return fmt.Errorf("output columns: %w", err)
	}
	name := item.Path[len(item.Path)-1]
	built, err := googlesql.NewSimpleTable(name, 0)
	if err != nil {
		return err
	}
	for _, output := range columns {
		columnName, err := output.Name()
		if err != nil {
			return fmt.Errorf("column name: %w", err)
		}
		// An expression without an alias: BigQuery refuses to create a table or view with it.
		if strings.HasPrefix(columnName, "$") {
			return fmt.Errorf("an output column has no name (%s): give it an alias", columnName)
		}
		resolved, err := output.Column()
		if err != nil {
			return fmt.Errorf("column: %w", err)
		}
		columnType, err := resolved.Type()
		if err != nil {
			return fmt.Errorf("column type: %w", err)
		}
		definition, err := googlesql.NewSimpleColumn(name, columnName, columnType, false, true)
		if err != nil {
			return err
		}
		if err := built.AddColumn2(definition, false); err != nil {
			return fmt.Errorf("column %s: %w", columnName, err)
		}
	}
	if err := parent.AddOwnedTable(built); err != nil {
		return fmt.Errorf("adding table %s: %w", strings.Join(item.Path, "."), err)
	}
	c.paths[key] = true
	return nil
}

func newTable(name string, columns []column, types *googlesql.TypeFactory) (*googlesql.SimpleTable, error) {
	built, err := googlesql.NewSimpleTable(name, 0)
	if err != nil {
		return nil, err
	}
	for _, item := range columns {
		columnType, err := typeOf(types, item.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", item.Name, err)
		}
		definition, err := googlesql.NewSimpleColumn(name, item.Name, columnType, false, true)
		if err != nil {
			return nil, err
		}
		// The analyzer checks names case-insensitively, as BigQuery does: a duplicate fails here.
		if err := built.AddColumn2(definition, false); err != nil {
			return nil, fmt.Errorf("column %s: %w", item.Name, err)
		}
	}
	return built, nil
}

func typeOf(types *googlesql.TypeFactory, name string) (googlesql.Googlesql_TypeNode, error) {
	switch strings.ToUpper(name) {
	case "STRING":
		return types.GetString()
	case "INT64":
		return types.GetInt64()
	case "NUMERIC":
		return types.GetNumeric()
	case "BIGNUMERIC":
		return types.GetBignumeric()
	case "FLOAT64":
		return types.GetDouble()
	case "TIMESTAMP":
		return types.GetTimestamp()
	case "DATE":
		return types.GetDate()
	case "BOOL":
		return types.GetBool()
	case "JSON":
		return types.GetJson()
	}
	return nil, fmt.Errorf("unknown type %s", name)
}

// check parses sql as a script (a single statement is a script of one), then analyzes each of
// its statements; it returns how many statements it analyzed.
func (c *checker) check(sql string) (int, error) {
	if _, err := googlesql.ParseScript(sql, c.parser, nil); err != nil {
		return 0, fmt.Errorf("parse: %w", err)
	}
	sql = inlineScriptVariables(sql)
	location, err := googlesql.NewParseResumeLocationFromString(sql)
	if err != nil {
		return 0, err
	}
	count := 0
	for {
		position, err := location.BytePosition()
		if err != nil {
			return count, err
		}
		if strings.TrimSpace(strings.TrimRight(sql[position:], "; \n\t")) == "" {
			return count, nil
		}
		if _, err := googlesql.AnalyzeNextStatement(location, c.analyzer, c.catalog, c.types); err != nil {
			return count, fmt.Errorf("analyze statement %d: %w", count+1, err)
		}
		count++
	}
}

var (
	declareStatement = regexp.MustCompile(`(?im)^\s*DECLARE\s+([A-Za-z_][A-Za-z0-9_]*)\s+([A-Za-z0-9_]+)\s*;`)
	setStatement     = regexp.MustCompile(`(?i)\bSET\s*\([^)]*\)\s*=\s*`)
	ifStatement      = regexp.MustCompile(`(?m)^IF (.+) THEN$`)
	endIfStatement   = regexp.MustCompile(`(?m)^END IF;`)
	rowCount         = regexp.MustCompile(`(?i)@@row_count\b`)
)

// inlineScriptVariables makes a script's variables something the statement analyzer can check
// (it analyzes statements, not scripting): an IF becomes its condition and its body (so nested
// IFs are each a condition), `@@row_count` an INT64 NULL, a DECLARE
// goes (the parser has checked it), each use of a variable becomes a NULL of its declared type,
// and `SET (a, b) = (query)` is analyzed as `SELECT (query)`. The parse of the whole script above
// is unchanged.
func inlineScriptVariables(sql string) string {
	// `IF condition THEN` (on a line of its own, as the loader writes it) is analyzed as
	// `SELECT condition;`, and the statements inside it as they are.
	sql = ifStatement.ReplaceAllString(sql, "SELECT $1;")
	sql = endIfStatement.ReplaceAllString(sql, "")
	// BigQuery's system variable (the rows the previous DML changed, INT64), unknown to the analyzer.
	sql = rowCount.ReplaceAllString(sql, "CAST(NULL AS INT64)")
	declared := declareStatement.FindAllStringSubmatch(sql, -1)
	if len(declared) == 0 {
		return sql
	}
	sql = declareStatement.ReplaceAllString(sql, "")
	sql = setStatement.ReplaceAllString(sql, "SELECT ")
	for _, variable := range declared {
		use := regexp.MustCompile(`\b` + regexp.QuoteMeta(variable[1]) + `\b`)
		sql = use.ReplaceAllString(sql, "CAST(NULL AS "+variable[2]+")")
	}
	return sql
}
