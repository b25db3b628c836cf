module aichat

go 1.23
