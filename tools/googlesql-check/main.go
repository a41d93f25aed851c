// googlesql-check parses and analyzes BigQuery SQL with Google's own GoogleSQL front end (the
// pure-Go build, github.com/goccy/go-googlesql), offline.
//
// Input on stdin: the document `target-invoca sql --format json` prints for a BigQuery config:
//
//	{"engine": "bigquery", "tables": [{"path": ["p", "d", "t"], "columns": [{"name", "type"}]}],
//	 "setup": ["sql", ...], "batch": ["sql or script", ...]}
//
// Every statement and script of setup and batch is parsed as a script, then each statement in it
// is analyzed against a catalog of those tables. Output on stdout: one JSON document
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

type document struct {
	Engine string   `json:"engine"`
	Tables []table  `json:"tables"`
	Setup  []string `json:"setup"`
	Batch  []string `json:"batch"`
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
	catalog  *googlesql.SimpleCatalog
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
	if err := addTables(catalog, types, tables); err != nil {
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
	return &checker{catalog: catalog, analyzer: analyzer, parser: parser, types: types}, nil
}

// addTables registers each table under nested catalogs for its path (project, dataset, table),
// built bottom-up: a catalog handed to its parent is owned by it.
func addTables(root *googlesql.SimpleCatalog, types *googlesql.TypeFactory, tables []table) error {
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
	var fill func(catalog *googlesql.SimpleCatalog, at *node) error
	fill = func(catalog *googlesql.SimpleCatalog, at *node) error {
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
			if err := fill(sub, child); err != nil {
				return err
			}
			if err := catalog.AddOwnedCatalog(sub); err != nil {
				return err
			}
		}
		return nil
	}
	return fill(root, tree)
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
)

// inlineScriptVariables makes a script's variables something the statement analyzer can check
// (it analyzes statements, not scripting): an IF becomes its condition and its body, a DECLARE
// goes (the parser has checked it), each use of a variable becomes a NULL of its declared type,
// and `SET (a, b) = (query)` is analyzed as `SELECT (query)`. The parse of the whole script above
// is unchanged.
func inlineScriptVariables(sql string) string {
	// `IF condition THEN` (on a line of its own, as the loader writes it) is analyzed as
	// `SELECT condition;`, and the statements inside it as they are.
	sql = ifStatement.ReplaceAllString(sql, "SELECT $1;")
	sql = endIfStatement.ReplaceAllString(sql, "")
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
