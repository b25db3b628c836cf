module github.com/aichat-dev/aichat-go

go 1.23
