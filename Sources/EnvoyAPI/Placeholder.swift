// Generated code lands here (scripts/proto/generate.sh).
