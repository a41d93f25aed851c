module tap-invoca/tools/googlesql-check

go 1.25.0

require github.com/goccy/go-googlesql v0.3.0

require github.com/goccy/googlesqlwasm2go v0.1.0 // indirect
