module tap-invoca/tools/googlesql-check

go 1.24

require github.com/goccy/go-googlesql v0.3.0
