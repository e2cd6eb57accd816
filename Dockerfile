# One image per kycflow command: docker build --build-arg COMMAND=kycflow-worker .
FROM golang:1.26 AS build
ARG COMMAND=kycflow-worker
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/app ./cmd/${COMMAND}

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/app /app
ENTRYPOINT ["/app"]
